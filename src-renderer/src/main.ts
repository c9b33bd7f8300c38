import { mount } from 'svelte';
import App from './App.svelte';
import { connect } from './lib/connect.js';
import { nav } from './state/nav.svelte.js';
import { Studio } from './state/studio.svelte.js';
import './app.css';

const { client, shell, uploader } = connect();
const studio = new Studio(client, { shell, uploader, navigate: (view) => nav.go(view), themeStorage: window.localStorage });
mount(App, { target: document.getElementById('app')!, props: { studio } });
void studio.start();
