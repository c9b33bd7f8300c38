/**
 * The preload (sandboxed, CommonJS): exposes the service's contract as window.cnnStudio and the
 * shell contract as window.cnnStudioShell — one function per command and on(event) each — through
 * contextBridge, never ipcRenderer itself. A sandboxed preload may require only 'electron' (and a
 * few Node builtins): everything else is bundled into out/preload/index.cjs.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { exposeShellApi, exposeStudioApi } from './ipc.js';

exposeStudioApi(contextBridge, ipcRenderer);
exposeShellApi(contextBridge, ipcRenderer, webUtils);
