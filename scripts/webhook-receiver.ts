/**
 * `npm run webhook-receiver -- --secret whsec_... [--port 4020] [--fail]`: a small server for
 * development (README "Webhooks"). It verifies each delivery's signature with the Standard
 * Webhooks library's own verifier, prints the event on one line, and answers 204; a bad
 * signature is printed and answered 400. `--fail` answers 503 to everything, to watch retries.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { onSignedDelivery } from './signed-delivery';

const usage = 'usage: npm run webhook-receiver -- --secret whsec_... [--port 4020] [--fail]';

function run() {
  const { values } = parseArgs({
    options: {
      secret: { type: 'string' },
      port: { type: 'string', default: '4020' },
      fail: { type: 'boolean', default: false },
    },
  });
  if (!values.secret) throw new Error(usage);
  const verifier = new Webhook(values.secret);
  const server = createServer((request, response) => {
    onSignedDelivery(request, (body, headers) => {
      try {
        // jsonParse off: the body is printed as sent (amounts are exact integers).
        verifier.verify(body, headers, { jsonParse: false });
      } catch (error) {
        console.log(`REFUSED ${headers['webhook-id']}: ${(error as Error).message}`);
        response.writeHead(400).end();
        return;
      }
      console.log(`${values.fail ? 'FAILING' : 'verified'} ${headers['webhook-id']} ${body}`);
      response.writeHead(values.fail ? 503 : 204).end();
    });
  });
  server.listen(Number(values.port), '127.0.0.1', () =>
    console.log(`webhook receiver on http://127.0.0.1:${values.port}/ (register it with WEBHOOK_ALLOW_PRIVATE=true)`),
  );
}

try {
  run();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
