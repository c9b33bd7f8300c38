/**
 * The preload (sandboxed, CommonJS): exposes the contract to the renderer as window.cnnStudio —
 * one function per command and on(event) — through contextBridge, never ipcRenderer itself.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeStudioApi } from './ipc.js';

exposeStudioApi(contextBridge, ipcRenderer);
