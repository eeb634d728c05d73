/**
 * A TLS-terminating gRPC proxy in front of a Temporal frontend, as a cloud or a self-hosted
 * cluster behind an ingress looks to a client: nginx from Debian (`npm run provision` installs
 * it) with `grpc_pass`, started on free ports in a temp dir and stopped by the test.
 *
 * Each listener is one of:
 *   - `mtls`: the client must present a certificate signed by the test CA (`ssl_verify_client on`);
 *   - `api-key`: the request must carry `authorization: Bearer <key>` (else gRPC UNAUTHENTICATED).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, portAnswers } from '../../src/demo/processes';
import type { TestCertificates } from './tls';

export interface GrpcTlsProxy {
  /** host:port of the mutual-TLS listener. */
  mtlsAddress: string;
  /** host:port of the API-key listener. */
  apiKeyAddress: string;
  stop(): Promise<void>;
  /** nginx's error log, for failure messages. */
  errorLog(): string;
}

function listener(port: number, certs: TestCertificates, upstream: string, extra: string, auth: string): string {
  return `
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${certs.serverCert};
    ssl_certificate_key ${certs.serverKey};
    ssl_protocols TLSv1.2 TLSv1.3;
    ${extra}
    location / {
      ${auth}
      grpc_pass grpc://${upstream};
    }
  }`;
}

export async function startGrpcTlsProxy(opts: { dir: string; upstream: string; certs: TestCertificates; apiKey: string }): Promise<GrpcTlsProxy> {
  const { dir, certs, upstream } = opts;
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o777);
  const [mtlsPort, apiKeyPort] = [await freePort(), await freePort()];
  const errorLog = join(dir, 'nginx-error.log');
  const conf = `
daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${errorLog} info;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'tmp')};
  proxy_temp_path ${join(dir, 'tmp')};
  fastcgi_temp_path ${join(dir, 'tmp')};
  uwsgi_temp_path ${join(dir, 'tmp')};
  scgi_temp_path ${join(dir, 'tmp')};
  client_max_body_size 0;
  keepalive_requests 1000000;
  keepalive_timeout 600s;
  http2_max_concurrent_streams 1000;
  # Temporal long-polls for up to 70 s.
  grpc_read_timeout 600s;
  grpc_send_timeout 600s;
  ${listener(mtlsPort, certs, upstream, `ssl_client_certificate ${certs.caCert};\n    ssl_verify_client on;`, '')}
  ${listener(apiKeyPort, certs, upstream, '', `if ($http_authorization != "Bearer ${opts.apiKey}") {
        add_header grpc-status 16 always;
        add_header grpc-message "invalid API key" always;
        add_header content-type application/grpc always;
        return 200;
      }`)}
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const bin = process.env.NGINX_PATH || (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');
  const child: ChildProcess = spawn(bin, ['-p', dir, '-e', errorLog, '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readLog = () => {
    try {
      return readFileSync(errorLog, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const failure = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 50, undefined))]);
    if (failure) throw new Error(`cannot start nginx (${bin}): ${failure.message}; \`npm run provision\` installs it from Debian`);
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode}: ${output.trim()} ${readLog()}`);
    if ((await portAnswers(mtlsPort, '127.0.0.1')) && (await portAnswers(apiKeyPort, '127.0.0.1'))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not listen within 10 s: ${output.trim()} ${readLog()}`);
    }
  }
  return {
    mtlsAddress: `127.0.0.1:${mtlsPort}`,
    apiKeyAddress: `127.0.0.1:${apiKeyPort}`,
    errorLog: readLog,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM'); // nginx: fast shutdown
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
