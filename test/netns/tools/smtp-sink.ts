// An SMTP server for labs (npm smtp-server): prints each received message as one JSON line on stdout (envelope and
// the raw message), so a test in the root namespace can read mail sent from inside a lab. Usage: smtp-sink.ts PORT
// [ADDRESS]. Messages are bounded to 256 KiB; no TLS, no auth (keepalived's plain SMTP).
import { SMTPServer } from 'smtp-server';

const port = Number(process.argv[2] ?? 2525);
const host = process.argv[3] ?? '0.0.0.0';
const LIMIT = 256 * 1024;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: LIMIT,
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= LIMIT) chunks.push(c);
    });
    stream.on('end', () => {
      process.stdout.write(
        `${JSON.stringify({
          mail: true,
          helo: session.hostNameAppearsAs,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        })}\n`,
      );
      callback(null);
    });
  },
});
server.listen(port, host, () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
