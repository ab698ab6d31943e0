// A TCP proxy that can be switched down (refusing and cutting every
// connection) and up again, to simulate a dependency that goes away and
// returns while lakestreamd runs.
import net from 'node:net';

export async function startProxy(targetHost, targetPort, { up = true } = {}) {
  const sockets = new Set();
  const proxy = { up, port: 0, connections: 0 };
  const server = net.createServer((client) => {
    if (!proxy.up) {
      client.destroy();
      return;
    }
    proxy.connections++;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = server.address().port;
  proxy.setUp = () => { proxy.up = true; };
  proxy.setDown = () => {
    proxy.up = false;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  proxy.close = () => new Promise((resolve) => {
    proxy.setDown();
    server.close(resolve);
  });
  return proxy;
}
