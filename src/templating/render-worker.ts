/**
 * The entry point of the worker thread that renders a task's templates off the scheduler's event
 * loop (see offloop.ts). It imports the templating engine only: no DB, no cache backend, no config.
 */
import { parentPort } from 'node:worker_threads';
import { renderRequest, type RenderReply, type RenderRequest } from './render-request.js';

const port = parentPort;
if (!port) throw new Error('render-worker.js runs only as a worker thread');
port.once('message', (req: RenderRequest) => {
  const reply = renderRequest(req, (field) => port.postMessage({ type: 'field', field } satisfies RenderReply));
  port.postMessage(reply);
});
