// A tiny HTTP responder for labs: answers every request with its name. Usage: responder.ts NAME [PORT [ADDRESS]]
import { createServer } from 'node:http';

const name = process.argv[2] ?? 'responder';
const port = Number(process.argv[3] ?? 80);
const host = process.argv[4] ?? '0.0.0.0';
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(`${name}\n`);
});
server.listen(port, host, () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
