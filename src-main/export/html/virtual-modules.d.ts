/** The exported page's script, bundled by electron.vite.config.ts's plugin (./page-build.ts). */
declare module 'virtual:cnn-studio/share-page-script' {
  const script: string;
  export default script;
}
