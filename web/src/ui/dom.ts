/** A tiny element builder: the app has no framework, so pages build their DOM with this and plain listeners. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      el.className = String(value);
    } else if (name === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

let fieldIds = 0;

/** A labelled input (or select): the label's `for` points at the control, the error slot is announced with it. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLDivElement {
  const id = control.id || `f${++fieldIds}`;
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': control.name, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', `${id}-error`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null, error);
}

export function select(name: string, options: (string | [string, string])[], value?: string): HTMLSelectElement {
  return h('select', { name }, ...options.map(o => {
    const [v, text] = typeof o === 'string' ? [o, o] : o;
    return h('option', { value: v, selected: v === value }, text);
  }));
}

export function table(headers: string[], rows: (Child | Child[])[][], caption?: string, empty = 'Nothing yet.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, ...headers.map(t => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map(cells => h('tr', {}, ...cells.map(c => h('td', {}, ...(Array.isArray(c) ? c : [c]))))))));
}

/** Shows a problem's sentence next to the named field of a form, or returns false when the form has no such field. */
export function showFieldError(form: HTMLFormElement, fieldName: string | undefined, message: string): boolean {
  if (!fieldName) return false;
  const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(fieldName)}"]`);
  if (!slot) return false;
  slot.textContent = message;
  const control = form.elements.namedItem(fieldName);
  if (control instanceof HTMLElement) {
    control.setAttribute('aria-invalid', 'true');
    control.focus();
  }
  return true;
}

export function clearFieldErrors(form: HTMLFormElement): void {
  form.querySelectorAll<HTMLElement>('.field-error').forEach(e => (e.textContent = ''));
  form.querySelectorAll('[aria-invalid]').forEach(e => e.removeAttribute('aria-invalid'));
}
