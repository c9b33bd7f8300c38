import { mount } from 'svelte';
import App from './App.svelte';
import { connectClient } from './lib/connect.js';
import { Studio } from './state/studio.svelte.js';
import './app.css';

const studio = new Studio(connectClient());
mount(App, { target: document.getElementById('app')!, props: { studio } });
void studio.start();
