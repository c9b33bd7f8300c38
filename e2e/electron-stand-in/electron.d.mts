// Types of the stand-in for the TypeScript tests that use it: loose on purpose — tests hand its
// objects to the shell's modules as the Electron types those expect (`as never`).
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface StandInWindow {
  options: any;
  bounds: { x: number; y: number; width: number; height: number };
  webContents: any;
  visible: boolean;
  focused?: boolean;
  loaded?: string;
  on(event: string, fn: (...args: any[]) => void): this;
  emit(event: string, ...args: any[]): boolean;
  close(): boolean;
  destroy(): void;
  isDestroyed(): boolean;
  minimize(): void;
  isMinimized(): boolean;
  maximize(): void;
  setBounds(bounds: Partial<{ x: number; y: number; width: number; height: number }>): void;
  loadURL(url: string): Promise<void>;
}
export interface StandIn {
  home: string;
  world: Record<string, any>;
  windows: StandInWindow[];
  handlers: Map<string, (...args: any[]) => any>;
  quitCount: number;
  exitCode: number | null;
  exitOnQuit: boolean;
  singleInstanceLock: boolean;
  sandboxEnabled: boolean;
  privilegedSchemes: any[];
  protocolHandlers: Map<string, (request: Request) => Promise<Response>>;
  applicationMenu: { template: any[] } | null;
  aboutPanel: any;
  dialogs: { kind: 'open' | 'save' | 'message'; options: any }[];
  errorBoxes: { title: string; content: string }[];
  opened: { external: string[]; paths: string[]; revealed: string[] };
  answers: { open: any[]; save: any[]; message: any[] };
  droppedPaths: Map<string, string>;
  displays: { id: number; workArea: { x: number; y: number; width: number; height: number } }[];
  windowHost: any;
  windowCreated: Promise<StandInWindow>;
  answer(kind: 'open' | 'save' | 'message', value: unknown): void;
  invokeAs(from: { url?: string; parent?: unknown; frame?: null; sender?: unknown }, channel: string, ...args: unknown[]): Promise<any>;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  requestPermission(webContents: unknown, permission: string, details?: object): Promise<boolean>;
  checkPermission(webContents: unknown, permission: string): boolean;
  navigate(webContents: unknown, url: string, event?: 'will-navigate' | 'will-redirect'): boolean;
  openWindow(webContents: unknown, url: string): { action: 'allow' | 'deny' };
  clickMenu(...labels: string[]): void;
}
export interface StandInElectron {
  app: any;
  BrowserWindow: { new (options?: any): StandInWindow; getAllWindows(): StandInWindow[] };
  ipcMain: any;
  ipcRenderer: any;
  contextBridge: any;
  webUtils: any;
  dialog: any;
  shell: any;
  session: any;
  protocol: any;
  Menu: any;
  nativeTheme: any;
  screen: any;
}
export function createElectron(options?: { home?: string }): StandInElectron & { standIn: StandIn; electron: StandInElectron };
export const standIn: StandIn;
declare const electron: StandInElectron;
export default electron;
