# pip install websocket-client && HOOKWAY_URL="wss://your-domain/ws?key=<client key>" python3 raw_client.py
import json, os, random, sys, time
from urllib.parse import quote

import websocket  # the websocket-client package

last_id = None  # top-level id of the last event handled: the resume cursor


def on_message(ws, text):
    global last_id
    msg = json.loads(text)
    if msg.get("hookway") == "resume":
        if not msg["recovered"]:
            print("events may have been missed", file=sys.stderr)
        return
    if msg.get("hookway") == "result":  # the answer to our call
        print("reply", msg["id"], msg.get("status", msg.get("error")), flush=True)
        return
    if msg.get("op") != 0:  # e.g. {"op":11}, the answer to {"op":1}
        return
    last_id = msg["id"]
    print(msg["t"], json.dumps(msg["d"], ensure_ascii=False), flush=True)
    if msg["t"] == "GROUP_AT_MESSAGE_CREATE":
        # Reply through the same socket; Hookway adds the access token. msg_id + msg_seq make it a passive reply.
        d = msg["d"]
        body = {"msg_type": 0, "content": "收到：" + d["content"].strip(), "msg_id": d["id"], "msg_seq": 1}
        path = "/v2/groups/%s/messages" % d["group_openid"]
        ws.send(json.dumps({"hookway": "call", "id": msg["id"], "method": "POST", "path": path, "body": body}))


while True:
    url = os.environ["HOOKWAY_URL"]
    if last_id:
        url += ("&" if "?" in url else "?") + "after=" + quote(last_id, safe="")
    websocket.WebSocketApp(url, on_message=on_message).run_forever()  # returns when the connection drops
    time.sleep(1 + random.random() * 2)  # jittered reconnect, then resume
