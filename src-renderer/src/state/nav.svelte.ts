/** Which view is shown; mirrored in the address's #hash so a reload stays put. */
export type View = 'datasets' | 'builder' | 'train' | 'evaluate' | 'inspect' | 'experiments';

export const VIEWS: { id: View; title: string; hint: string }[] = [
  { id: 'datasets', title: 'Datasets', hint: 'import and inspect' },
  { id: 'builder', title: 'Builder', hint: 'design a model' },
  { id: 'train', title: 'Train', hint: 'live runs' },
  { id: 'evaluate', title: 'Evaluate', hint: 'test a run' },
  { id: 'inspect', title: 'Look inside', hint: 'try it, filters, step through' },
  { id: 'experiments', title: 'Experiments', hint: 'compare and fork' },
];

function fromHash(): View {
  const id = window.location.hash.replace(/^#\/?/, '');
  return VIEWS.some((v) => v.id === id) ? (id as View) : 'datasets';
}

class Nav {
  view = $state<View>(fromHash());

  constructor() {
    window.addEventListener('hashchange', () => (this.view = fromHash()));
  }

  go(view: View): void {
    this.view = view;
    if (fromHash() !== view) history.pushState(null, '', `#/${view}`);
  }
}

export const nav = new Nav();
