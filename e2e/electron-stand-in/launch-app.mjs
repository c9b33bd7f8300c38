/**
 * The desktop app as a process, on the stand-in: the *built* main bundle with its window in Debian's
 * Chromium (chromium-window.mjs). Started by e2e/desktop/stand-in-app.ts with child_process.fork:
 *   node --import ./register.mjs launch-app.mjs <out dir>
 * with CNN_STUDIO_STAND_IN_HOME as the user's home (appData, documents…). Like Electron, the process
 * exits after the app quits.
 *
 * Over the fork channel the test plays the user and the OS: { id, op, … } requests — answer a
 * dialog, click a menu item, press the window's close button, move the window, start a second
 * instance, call a handler as a forged sender, read the stand-in's state — each answered with
 * { id, value } or { id, error }; the app reports { event: 'window' | 'dialog' | 'quit', … }.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumWindowHost } from './chromium-window.mjs';
import electron, { app, BrowserWindow, nativeTheme, standIn } from './electron.mjs';
import { loadPreload } from './register.mjs';

const [outDir] = process.argv.slice(2);
const send = (message) => process.send?.(message);

standIn.exitOnQuit = true;
const host = chromiumWindowHost({
  standIn,
  loadPreload,
  instance: { electron, standIn },
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: JSON.parse(process.env.CNN_STUDIO_CHROMIUM_ARGS ?? '[]'),
  profileDir: join(standIn.home, 'chromium-profile'),
  onWindow: (info) => send({ event: 'window', ...info }),
});
standIn.windowHost = host;
standIn.onDialog = (kind, options) => send({ event: 'dialog', kind, title: options?.title ?? '', message: options?.message ?? '', detail: options?.detail ?? '', defaultPath: options?.defaultPath ?? null });
app.on('quit', (_event, code) => send({ event: 'quit', code }));

const window = () => BrowserWindow.getAllWindows()[0];
const ops = {
  answer: ({ kind, value }) => void standIn.answer(kind, value),
  dropPaths: ({ paths }) => void paths.forEach((p) => standIn.droppedPaths.set(p.split(/[\\/]/).pop(), p)),
  menu: ({ labels }) => void standIn.clickMenu(...labels),
  closeWindow: () => window()?.close() ?? null,
  quit: () => void app.quit(),
  setBounds: ({ bounds }) => void window().setBounds(bounds),
  secondInstance: () => void app.emit('second-instance', {}, ['cnn-studio'], process.cwd()),
  invokeAs: ({ from, channel, args }) => standIn.invokeAs(from, channel, ...args),
  state: () => ({
    dialogs: standIn.dialogs.map((d) => ({ kind: d.kind, title: d.options?.title ?? '' })),
    opened: standIn.opened,
    errorBoxes: standIn.errorBoxes,
    pageErrors: host.pageErrors,
    aboutPanel: standIn.aboutPanel,
    menu: (standIn.applicationMenu?.template ?? []).map((m) => m.label ?? m.role),
    windows: BrowserWindow.getAllWindows().map((w) => ({ bounds: w.getBounds(), visible: w.visible, focused: !!w.focused, url: w.webContents.getURL(), options: w.options })),
    userData: app.getPath('userData'),
    themeSource: nativeTheme.themeSource,
  }),
};
process.on('message', async (m) => {
  try {
    const op = ops[m.op];
    if (!op) throw new Error(`unknown op ${m.op}`);
    send({ id: m.id, value: (await op(m)) ?? null });
  } catch (e) {
    send({ id: m.id, error: String(e?.stack ?? e) });
  }
});

await import(pathToFileURL(join(outDir, 'main', 'index.js')).href);
