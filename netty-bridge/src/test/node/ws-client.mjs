// An independent WebSocket client (Node's ws package) against fiberloop's server: each check
// prints one line, "name: result", which WebSocketClientsTest compares with what it expects.
import WebSocket from 'ws';

const base = process.argv[2];
const out = (name, value) => console.log(`${name}: ${value}`);

function open(path, protocols, options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base + path, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject); // a refused upgrade: "Unexpected server response: 403"
  });
}
const next = (ws) => new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
const closed = (ws) => new Promise((resolve) => ws.once('close', (code, reason) => resolve(`${code} ${reason.toString()}`)));

async function main() {
  // echo, text and binary, with permessage-deflate (ws offers it by default)
  let ws = await open('/echo');
  out('extensions', ws.extensions.includes('permessage-deflate') ? 'permessage-deflate' : 'none');
  ws.send('hello from node ✓');
  let m = await next(ws);
  out('text', `${m.isBinary ? 'binary' : 'text'} ${m.data.toString()}`);
  ws.send(Buffer.from([0, 1, 2, 254, 255]));
  m = await next(ws);
  out('binary', `${m.isBinary ? 'binary' : 'text'} ${[...m.data].join(',')}`);
  // a message sent in three fragments comes back whole
  ws.send('frag', { fin: false });
  ws.send('men', { fin: false });
  ws.send('ted', { fin: true });
  m = await next(ws);
  out('fragmented', m.data.toString());
  // ping, answered by the server's pong
  const pong = new Promise((resolve) => ws.once('pong', (data) => resolve(data.toString())));
  ws.ping('are you there');
  out('pong', await pong);
  // a 200 KiB message
  const big = Buffer.alloc(200 * 1024, 7);
  ws.send(big);
  m = await next(ws);
  out('big', `${m.data.length} ${m.data.equals(big)}`);
  // a clean close with a code and reason
  let c = closed(ws);
  ws.close(4000, 'node done');
  out('close', await c);

  // subprotocols: the server picks its preferred one among those offered
  ws = await open('/proto', ['v1', 'v2']);
  out('protocol', `${ws.protocol} ${(await next(ws)).data.toString()}`);
  out('proto-close', await closed(ws));

  // a message over the server's limit: 1009
  ws = await open('/echo');
  c = closed(ws);
  ws.send('x'.repeat(400 * 1024)); // compressed, it inflates past the limit: 1009 too
  out('too-big', await c);

  // invalid UTF-8 in a text frame: 1007
  ws = await open('/echo', undefined, { perMessageDeflate: false });
  c = closed(ws);
  ws.send(Buffer.from([0x61, 0xc3, 0x28]), { binary: false });
  out('bad-utf8', await c);

  // a handler that throws: 1011; one that closes: its code
  ws = await open('/fail');
  c = closed(ws);
  ws.send('go');
  out('fail', await c);
  ws = await open('/closes');
  out('closes', await closed(ws));

  // an origin the server refuses: 403 before the upgrade
  try {
    await open('/origin', undefined, { origin: 'https://evil.example' });
    out('origin', 'accepted');
  } catch (e) {
    out('origin', e.message);
  }

  // an abrupt disconnect: the server's handler sees 1006 (reported by /last)
  ws = await open('/echo');
  ws.send('bye');
  await next(ws);
  ws.terminate();
}

main().then(() => out('done', 'ok'), (e) => { out('error', e.stack || e); process.exitCode = 1; });
