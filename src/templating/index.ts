export {
  buildTemplateContext,
  contextField,
  isContextFieldName,
  type TemplateContext,
  type TemplateContextInput,
  type XComReader,
} from './context.js';
export { resolveInputs, type ResolvedInputs, type InputsLocation } from './resolve.js';
export { renderTemplate, isTemplated } from './render.js';
