export {
  buildTemplateContext,
  contextField,
  isContextFieldName,
  xcomEntries,
  type TemplateContext,
  type TemplateContextInput,
  type XComReader,
} from './context.js';
export { resolveInputs, VARIABLES_READ, type ResolvedInputs, type InputsLocation } from './resolve.js';
export { renderTemplate, isTemplated, DEFAULT_RENDER_BOUNDS, type RenderBounds } from './render.js';
export type { VariableLookup, VariableSnapshot, TaskScope } from './scope.js';
export { TaskInputResolver, type VariableLoader } from './task-inputs.js';
