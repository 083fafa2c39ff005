/// <reference lib="dom" />
/**
 * The confirmation dialog every action goes through: what will happen, on what, and (for weight and add) the value
 * asked for. One dialog at a time; Escape or Cancel refuses.
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';

/** What a dialog asks. */
export interface ConfirmSpec {
  title: string;
  text: string;
  /** A field to fill in (weight, server address), with its label and initial value. */
  field?: { label: string; value: string; pattern?: string };
  danger?: boolean;
  confirmLabel?: string;
  /** Runs on Confirm with the field's value; its promise's error text (if any) is shown in the dialog. */
  run: (value: string) => Promise<string | null>;
}

type Show = (spec: ConfirmSpec) => void;
let show: Show = () => undefined;

/** Opens the confirmation dialog. */
export function confirmAction(spec: ConfirmSpec): void {
  show(spec);
}

/** The dialog's host, mounted once by the app. */
export function DialogHost() {
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  show = (s) => {
    setSpec(s);
    setValue(s.field?.value ?? '');
    setError(null);
    setBusy(false);
  };
  if (!spec) return null;
  const close = () => setSpec(null);
  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const err = await spec.run(value);
    setBusy(false);
    if (err) setError(err);
    else close();
  };
  return h(
    'div',
    { class: 'modal-back', onKeyDown: (e: KeyboardEvent) => e.key === 'Escape' && close() },
    h(
      'form',
      { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': spec.title, onSubmit: confirm },
      h('h2', null, spec.title),
      h('p', null, spec.text),
      spec.field &&
        h(
          'label',
          null,
          spec.field.label,
          h('input', {
            name: 'value',
            value,
            pattern: spec.field.pattern,
            required: true,
            autoFocus: true,
            onInput: (e: Event) => setValue((e.target as HTMLInputElement).value),
          }),
        ),
      error && h('p', { class: 'error', role: 'alert' }, error),
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', onClick: close }, 'Cancel'),
        h(
          'button',
          { type: 'submit', class: spec.danger ? 'danger' : 'primary', disabled: busy, 'data-confirm': '' },
          busy ? 'Working…' : (spec.confirmLabel ?? 'Confirm'),
        ),
      ),
    ),
  );
}
