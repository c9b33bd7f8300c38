/**
 * The builder as a user drives it, on the real backend (the bundled sample dataset, no runs made):
 * drag a card to reorder and a palette entry to insert, the same from the keyboard, undo and redo,
 * the template shown and "modified from", an emptied field said to be required at that field with
 * the shapes before it kept, and Start in the window at both laptop sizes with a long stack.
 * Every wait is on a state the page shows.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { openStudio } from './studio.js';

test.describe.configure({ mode: 'serial' });

let page: Page;
const pageErrors: string[] = [];
let cards: Locator;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  cards = page.getByTestId('layer-card');
});

test.afterAll(async () => {
  await page.close();
});

const expectTypes = (types: string[]) => expect.poll(() => cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-layer-type')))).toEqual(types);
const shapeOf = (i: number) => cards.nth(i).getByTestId('layer-shape');
const SEED = ['conv2d', 'maxpool2d', 'flatten', 'dense'];

test('the template picker shows the chosen template; an edit says it is modified from it', async () => {
  await openStudio(page, 'builder');
  await expect(cards).toHaveCount(6); // the reference template first
  await expect(page.getByTestId('builder-template')).toHaveValue('reference');
  await page.getByTestId('builder-template').selectOption('seed');
  await expectTypes(SEED);
  await expect(page.getByTestId('builder-template')).toHaveValue('seed');
  await expect(page.getByTestId('template-state')).toHaveText('as in the template seed');
  // The seed's recipe is in the form: plain SGD at 0.01.
  await expect(page.getByTestId('hp-optimizer.learningRate')).toHaveValue('0.01');
  await cards.nth(0).getByTestId('field-filters').fill('12');
  await expect(page.getByTestId('template-state')).toContainText('modified from seed');
  await expect(page.getByTestId('builder-template')).toHaveValue('seed');
  await page.getByTestId('template-revert').click();
  await expect(cards.nth(0).getByTestId('field-filters')).toHaveValue('8');
  await expect(page.getByTestId('template-state')).toHaveText('as in the template seed');
});

test('a card dragged by its handle moves there (a bar shows where first); order and shapes follow; undo and redo, by button and by key', async () => {
  await expectTypes(SEED);
  await expect(shapeOf(0)).toHaveText('28×28×1 → 26×26×8');

  // Drag the pool's handle over the top of the first card: the bar shows before it; drop.
  await cards.nth(1).getByTestId('layer-grip').hover();
  await page.mouse.down();
  const first = (await cards.nth(0).boundingBox())!;
  await page.mouse.move(first.x + 40, first.y + 12, { steps: 4 });
  await page.mouse.move(first.x + 40, first.y + 6, { steps: 2 });
  await expect(cards.nth(0)).toHaveAttribute('data-drop', 'before');
  await page.mouse.up();
  await expectTypes(['maxpool2d', 'conv2d', 'flatten', 'dense']);
  await expect(cards.locator('[data-drop]')).toHaveCount(0);
  await expect(shapeOf(0)).toHaveText('28×28×1 → 14×14×1');
  await expect(shapeOf(1)).toHaveText('14×14×1 → 12×12×8');
  await expect(page.getByTestId('template-state')).toContainText('modified from seed');

  // The conv dragged below the flatten (dragTo): a conv on a vector is named at its layer.
  const flatten = (await cards.nth(2).boundingBox())!;
  await cards.nth(1).getByTestId('layer-grip').dragTo(cards.nth(2), { targetPosition: { x: 60, y: flatten.height - 4 } });
  await expectTypes(['maxpool2d', 'flatten', 'conv2d', 'dense']);
  await expect(shapeOf(1)).toHaveText('14×14×1 → 1×1×196');
  await expect(cards.nth(2).getByTestId('layer-error')).toHaveText('conv2d #3: kernel 3×3 does not fit input 1×1×196');

  await page.getByTestId('undo').click();
  await expectTypes(['maxpool2d', 'conv2d', 'flatten', 'dense']);
  await page.getByTestId('undo').click();
  await expectTypes(SEED);
  await expect(shapeOf(0)).toHaveText('28×28×1 → 26×26×8');
  await expect(page.getByTestId('template-state')).toHaveText('as in the template seed');
  // The focus is on the Undo button, not in a field: the keys are the builder's.
  await page.keyboard.press('Control+Shift+Z');
  await expectTypes(['maxpool2d', 'conv2d', 'flatten', 'dense']);
  await page.keyboard.press('Control+y');
  await expectTypes(['maxpool2d', 'flatten', 'conv2d', 'dense']);
  await expect(page.getByTestId('redo')).toBeDisabled();
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  await expectTypes(SEED);
  await page.getByTestId('redo').click();
  await expectTypes(['maxpool2d', 'conv2d', 'flatten', 'dense']);

  // In a number field Ctrl+Z is the browser's own undo of its text: the stack stays as it is.
  await cards.nth(1).getByTestId('field-filters').fill('10');
  await expect(shapeOf(1)).toHaveText('14×14×1 → 12×12×10');
  await page.keyboard.press('Control+z');
  await expectTypes(['maxpool2d', 'conv2d', 'flatten', 'dense']);
  // Outside the field, the typing is one step: undone at once, then the move.
  await page.getByRole('heading', { name: 'Builder' }).click();
  await page.keyboard.press('Control+z');
  await expect(cards.nth(1).getByTestId('field-filters')).toHaveValue('8');
  await page.keyboard.press('Control+z');
  await expectTypes(SEED);
  expect(pageErrors).toEqual([]);
});

test('a palette entry dragged onto the stack is inserted there; from the keyboard, the position menu and the arrows do the same', async () => {
  await expectTypes(SEED);
  await page.getByTestId('add-dropout').dragTo(cards.nth(1), { targetPosition: { x: 60, y: 4 } });
  await expectTypes(['conv2d', 'dropout', 'maxpool2d', 'flatten', 'dense']);
  await expect(shapeOf(1)).toHaveText('26×26×8 → 26×26×8');
  await expect(shapeOf(2)).toHaveText('26×26×8 → 13×13×8');

  // Keyboard only: choose "before layer 1" in the menu, then Enter on a palette button.
  await page.getByTestId('insert-position').focus();
  await page.getByTestId('insert-position').selectOption({ label: 'before layer 1 (Conv 2D)' });
  await page.getByTestId('add-batchnorm').focus();
  await page.keyboard.press('Enter');
  await expectTypes(['batchnorm', 'conv2d', 'dropout', 'maxpool2d', 'flatten', 'dense']);
  await expect(shapeOf(0)).toHaveText('28×28×1 → 28×28×1');
  // The arrows: focus "move layer 1 down", Enter.
  await page.getByRole('button', { name: 'move layer 1 down' }).focus();
  await page.keyboard.press('Enter');
  await expectTypes(['conv2d', 'batchnorm', 'dropout', 'maxpool2d', 'flatten', 'dense']);
  await expect(shapeOf(1)).toHaveText('26×26×8 → 26×26×8');

  for (let i = 0; i < 3; i++) await page.getByTestId('undo').click();
  await expectTypes(SEED);
  await expect(page.getByTestId('template-state')).toHaveText('as in the template seed');
  await page.getByTestId('insert-position').selectOption('');
});

test('an emptied field says "filters is required" at that field; the layers before it keep their shapes', async () => {
  await page.getByTestId('builder-template').selectOption('lenet5');
  await expect(cards).toHaveCount(8);
  const filters = cards.nth(2).getByTestId('field-filters');
  await filters.fill('');
  await expect(cards.nth(2).getByTestId('layer-error')).toHaveText('conv2d #3: filters is required');
  await expect(page.getByTestId('layer-error')).toHaveCount(1);
  await expect(filters).toHaveAttribute('aria-invalid', 'true');
  await expect(filters).toHaveCSS('border-top-color', 'rgb(185, 28, 28)');
  await expect(cards.nth(2).getByTestId('field-kernelSize')).not.toHaveAttribute('aria-invalid', 'true');
  await expect(shapeOf(0)).toHaveText('28×28×1 → 28×28×6');
  await expect(shapeOf(1)).toHaveText('28×28×6 → 14×14×6');
  await expect(cards.nth(2).getByTestId('layer-shape')).toHaveCount(0);
  await expect(page.getByTestId('model-validity')).toHaveText('✗ Not trainable yet: conv2d #3: filters is required');
  await expect(page.getByTestId('start-run')).toBeDisabled();
  await page.screenshot({ path: 'e2e/screenshots/builder-required-field.png' });

  await filters.fill('16');
  await expect(page.getByTestId('layer-error')).toHaveCount(0);
  await expect(cards.nth(2).getByTestId('layer-shape')).toHaveText('14×14×6 → 10×10×16');
  await expect(page.getByTestId('model-validity')).toHaveText('✓ Ready to train');

  // A hyperparameter left empty: said to be required too, at Start, and nothing is started.
  await page.getByTestId('hp-batchSize').fill('');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('start-error')).toHaveText('batch size is required');
  await page.getByTestId('hp-batchSize').fill('64');
  expect(pageErrors).toEqual([]);
});

for (const size of [{ width: 1280, height: 800 }, { width: 1024, height: 700 }]) {
  test(`at ${size.width}×${size.height} with a long stack, Start and the summary stay in the window`, async () => {
    await page.setViewportSize(size);
    await page.getByTestId('builder-template').selectOption('fashion-strong');
    await expect(cards).toHaveCount(12);
    for (let i = 0; i < 4; i++) await page.getByTestId('add-dense').click();
    await expect(cards).toHaveCount(16);
    const start = page.getByTestId('start-run');
    // The stack is taller than the window: its classifier is out of sight, Start is not.
    await page.evaluate(() => window.scrollTo(0, 0));
    await expect(cards.last()).not.toBeInViewport();
    await expect(start).toBeInViewport();
    await expect(start).toBeEnabled();
    await expect(page.getByTestId('model-validity')).toHaveText('✓ Ready to train');
    await expect(page.getByTestId('model-output')).toContainText('→ 10 classes');
    await page.screenshot({ path: `e2e/screenshots/builder-${size.width}x${size.height}.png` });
    await cards.nth(8).scrollIntoViewIfNeeded();
    await expect(start).toBeInViewport();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `e2e/screenshots/builder-${size.width}x${size.height}-scrolled.png` });
    expect(pageErrors).toEqual([]);
  });
}
