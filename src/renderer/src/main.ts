// Renderer entry: finds the LabApi (window.lab in Electron, a WebSocket in web mode) and mounts the app.

import { mount } from 'svelte';
import type { LabApi } from '../../shared/lab-api';
import App from './App.svelte';
import { connectLab } from './lib/ws-client';
import './app.css';

declare global {
  interface Window {
    /** The LabApi, exposed by the Electron preload. */
    lab?: LabApi;
  }
}

async function start(): Promise<void> {
  const target = document.getElementById('app')!;
  try {
    const lab = window.lab ?? (await connectLab(`ws://${location.host}/api`, () => {
      document.body.classList.add('disconnected');
      document.title = 'vmlab (disconnected)';
    }));
    mount(App, { target, props: { lab } });
  } catch (err) {
    target.textContent = `vmlab: ${err instanceof Error ? err.message : String(err)}`;
  }
}

void start();
