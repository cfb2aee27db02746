import { createHash } from 'node:crypto';

/**
 * The status page: one self-contained HTML document (inline CSS and script, no CDN, no fonts or images to fetch),
 * so it works offline and behind any proxy. The script polls `status/data` (relative, so a path prefix in front of
 * Hookway still works) and writes every value with textContent: nothing from the data is ever parsed as HTML.
 */

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--muted:#6a7280;--line:#e2e5ea;--ok:#1f8a4c;--warn:#b7791f;--bad:#c53030}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1d2129;--fg:#e6e8eb;--muted:#9aa3ae;--line:#2d333d}}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:center;gap:16px;padding:12px 20px;background:var(--card);border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0}h2{font-size:15px;margin:0 0 8px}h3{font-size:13px;margin:12px 0 4px;color:var(--muted)}
main{padding:16px 20px;display:grid;gap:16px;max-width:1200px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
.muted{color:var(--muted)}.grow{flex:1}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:8px;margin:8px 0}
.fact b{display:block;font-size:20px;overflow-wrap:anywhere}.fact span{color:var(--muted);font-size:12px}
.fact.wide{grid-column:span 2}.fact.wide b{font-size:15px;line-height:1.9}
.tag{font-family:ui-monospace,Menlo,Consolas,monospace}
.ready{color:var(--ok)}.not_ready{color:var(--bad)}.stale{color:var(--warn)}
button{font:inherit;padding:4px 12px;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer}
input{font:inherit;padding:6px 8px;border-radius:6px;border:1px solid var(--line);width:100%;background:var(--bg);color:var(--fg)}
.login{max-width:380px;margin:10vh auto}.error{color:var(--bad)}
`;

const SCRIPT = `
(function(){
var INTERVAL_MS=3000;
function el(tag,text,cls){var e=document.createElement(tag);if(text!==undefined&&text!==null)e.textContent=String(text);if(cls)e.className=cls;return e;}
function ago(ms){if(ms===undefined||ms===null)return '—';var s=Math.max(0,Math.round((Date.now()-ms)/1000));
 var rel=s<60?s+' 秒前 / '+s+'s ago':s<3600?Math.floor(s/60)+' 分钟前 / '+Math.floor(s/60)+'m ago':Math.floor(s/3600)+' 小时前 / '+Math.floor(s/3600)+'h ago';
 return new Date(ms).toLocaleTimeString()+' ('+rel+')';}
function dur(sec){if(sec<60)return sec+'s';if(sec<3600)return Math.floor(sec/60)+'m';if(sec<86400)return Math.floor(sec/3600)+'h'+Math.floor(sec%3600/60)+'m';return Math.floor(sec/86400)+'d'+Math.floor(sec%86400/3600)+'h';}
function table(headers,rows){var t=el('table'),h=el('tr');headers.forEach(function(x){h.appendChild(el('th',x));});t.appendChild(h);
 rows.forEach(function(r){var tr=el('tr');r.forEach(function(c){if(c instanceof Node){var td=el('td');td.appendChild(c);tr.appendChild(td);}else tr.appendChild(el('td',c));});t.appendChild(tr);});return t;}
function fact(value,label,wide){var d=el('div',null,wide?'fact wide':'fact');d.appendChild(el('b',value));d.appendChild(el('span',label));return d;}
var HEALTH={ready:'正常 / ready',not_ready:'未就绪 / not ready',stale:'失联 / stale'};
function render(data){
 var replicas=document.getElementById('replicas');replicas.replaceChildren(el('h2','实例 / Replicas ('+data.replicas.length+')'));
 replicas.appendChild(table(['实例 / Replica','角色 / Role','状态 / Health','运行 / Uptime','客户端 / Clients','版本 / Version','上报 / Reported'],
  data.replicas.map(function(r){var h=el('span',HEALTH[r.health]+(r.notReadyReason?' — '+r.notReadyReason:''),r.health);
   return [r.replicaId+(r.self?' ★':''),r.role,h,dur(r.uptimeSec),r.clients,r.version,ago(r.reportedAtMs)];})));
 if(data.reportsError)replicas.appendChild(el('p',data.reportsError,'error'));
 var bots=document.getElementById('bots');bots.replaceChildren();
 if(data.bots.length===0){var c=el('section',null,'card');c.appendChild(el('h2','机器人 / Bots'));
  c.appendChild(el('p','还没有任何机器人的活动：在 QQ 开放平台保存回调地址（会触发回调验证）或等待第一条事件。 / No bot activity yet: save the callback URL on the QQ console (it sends a validation) or wait for the first event.','muted'));bots.appendChild(c);}
 data.bots.forEach(function(b){var c=el('section',null,'card bot');c.setAttribute('data-bot',b.bot);
  var title=el('h2');title.appendChild(el('span',b.bot,'tag'));if(b.appid)title.appendChild(el('span','  AppID '+b.appid,'muted'));c.appendChild(title);
  var f=el('div',null,'facts');
  f.appendChild(fact(b.lastEvent?(b.lastEvent.type||'(无类型 / no type)'):'—','最近事件 / Last event',true));
  f.appendChild(fact(b.lastEvent?ago(b.lastEvent.atMs):'—','事件时间 / Last event at',true));
  f.appendChild(fact(b.eventsLast5Min,'5 分钟内事件 / Events (5 min)'));
  f.appendChild(fact(b.eventsTotal,'事件总数 / Events (since start)'));
  f.appendChild(fact(b.validations,'回调验证 / Callback validations'));
  f.appendChild(fact(b.clientsTotal,'已连接客户端 / Connected clients'));
  c.appendChild(f);
  c.appendChild(el('h3','已连接客户端 / Connected clients'));
  if(b.clients.length===0)c.appendChild(el('p','无 / none','muted'));
  else c.appendChild(table(['模式 / Mode','地址 / Address','连接于 / Since','密钥 / Key','实例 / Replica'],b.clients.map(function(x){return [x.mode,x.address,ago(x.sinceMs),x.key||'—',x.replicaId];})));
  c.appendChild(el('h3','最近拒绝 / Recent rejections'));
  if(b.rejections.length===0)c.appendChild(el('p','无 / none','muted'));
  else c.appendChild(table(['时间 / Time','原因 / Reason','地址 / Address','实例 / Replica'],b.rejections.map(function(x){return [ago(x.atMs),x.reason,x.address,x.replicaId];})));
  bots.appendChild(c);});
 if(data.botsOmitted>0)bots.appendChild(el('p','另有 '+data.botsOmitted+' 个机器人未显示 / '+data.botsOmitted+' more bots not shown','muted'));
 var un=document.getElementById('unattributed');un.replaceChildren(el('h2','未归属的拒绝 / Rejections naming no bot'));
 if(data.unattributed.length===0)un.appendChild(el('p','无 / none','muted'));
 else un.appendChild(table(['时间 / Time','原因 / Reason','地址 / Address','实例 / Replica'],data.unattributed.map(function(x){return [ago(x.atMs),x.reason,x.address,x.replicaId];})));
 document.getElementById('updated').textContent='更新于 / Updated '+new Date(data.generatedAtMs).toLocaleTimeString();
 document.body.setAttribute('data-loaded','1');
}
function poll(){fetch('status/data',{credentials:'same-origin',cache:'no-store'}).then(function(r){
  if(r.status===401){location.reload();return;}
  if(!r.ok)throw new Error('HTTP '+r.status);return r.json().then(render);
 }).catch(function(e){document.getElementById('updated').textContent='无法刷新 / Cannot refresh: '+e.message;})
 .then(function(){setTimeout(poll,INTERVAL_MS);});}
poll();
})();
`;

/** Only this exact script may run on the page (and nothing may be framed, fetched cross-origin, or posted elsewhere). */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`,
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const head = (title: string) =>
  `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>${STYLE}</style></head>`;

export const STATUS_PAGE = `${head('Hookway 状态 / Status')}<body>
<header><h1>Hookway 状态 <span class="muted">/ Status</span></h1><span id="updated" class="muted grow">加载中… / Loading…</span>
<form method="post" action="status/logout"><button type="submit">退出 / Log out</button></form></header>
<main><section id="replicas" class="card"></section><div id="bots" style="display:grid;gap:16px"></div><section id="unattributed" class="card"></section></main>
<script>${SCRIPT}</script></body></html>`;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The login form (the status page without a valid cookie). `action` is relative to where it is served from
 * (`status/login` on /status, `login` on /status/login); `error` is one of our own messages, escaped anyway.
 */
export function loginPage(action: 'status/login' | 'login', error?: string): string {
  return `${head('Hookway 登录 / Log in')}<body><main><section class="card login">
<h1>Hookway 状态页 <span class="muted">/ Status page</span></h1>
<p class="muted">请输入 ADMIN_TOKEN。/ Enter the ADMIN_TOKEN.</p>
${error ? `<p class="error" id="login-error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${action}"><p><label>令牌 / Token<br><input type="password" name="token" autocomplete="current-password" autofocus required></label></p>
<p><button type="submit">登录 / Log in</button></p></form></section></main></body></html>`;
}
