export { groupAtMessage, idOf, WsCollector } from '@hookway/testkit';
export { signDispatch } from '@hookway/protocol';
