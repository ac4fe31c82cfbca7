import type { Command } from 'commander';
import { UsageError } from '../../errors.js';

function portArg(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535)
    throw new UsageError(`--port must be a port number from 0 to 65535, got '${text}'`);
  return n;
}

export function registerApiServer(program: Command): void {
  program
    .command('api-server')
    .description('serve the REST API (/api/v2/) and the web UI; run it beside `miniflow scheduler`')
    .option('-p, --port <port>', 'port to listen on (default: [api] port, 8080; 0 = any free port)')
    .option('-H, --host <host>', 'address to bind (default: [api] host, 127.0.0.1)')
    .action(async (opts: { port?: string; host?: string }) => {
      const port = opts.port === undefined ? undefined : portArg(opts.port);
      // Fastify and the runtime load only for this command.
      const [{ Runtime }, { buildApiServer }] = await Promise.all([
        import('../../runtime.js'),
        import('../../api/server.js'),
      ]);
      const rt = await Runtime.open();
      const app = await buildApiServer(rt);
      const host = opts.host ?? rt.settings.api.host;
      try {
        await app.listen({ host, port: port ?? rt.settings.api.port });
      } catch (err) {
        await rt.close();
        throw new UsageError(`cannot listen on ${host}:${port ?? rt.settings.api.port}: ${(err as Error).message}`);
      }
      const addr = app.server.address();
      const shown =
        typeof addr === 'object' && addr ? `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}` : host;
      process.stdout.write(`miniflow api-server listening on ${shown} (UI at ${shown}/, API at ${shown}/api/v2/)\n`);
      if (rt.settings.api.authToken === '')
        process.stdout.write(
          'No [api] auth_token is set: write requests (trigger, clear, pause, invalidate) are refused.\n',
        );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await app.close();
      await rt.close();
    });
}
