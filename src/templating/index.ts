export { buildTemplateContext, contextField, type TemplateContext } from './context.js';
export { resolveInputs, type ResolvedInputs } from './resolve.js';
export { instanceInputs, mappedCount } from './instance-inputs.js';
