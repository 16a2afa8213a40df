export { discoverPython, PythonNotFoundError, type PythonInfo } from './discover.js';
export { PythonError } from './errors.js';
export {
  importPythonHandlers,
  loadPythonHandlers,
  PythonHandler,
  HandlerReturnError,
  stateFor,
  type HandlerInfo,
  type LoadOptions,
  type LoadResult,
  type LoadedHandler,
} from './handlers.js';
export { NativeLoadError, type PyRef } from './native.js';
export { PythonRuntime } from './runtime.js';
