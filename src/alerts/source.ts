/**
 * Turns the daemon's typed events (the `event` field of its log records: `transition`, `stop`, `health`, `quorum`;
 * Rule 9) into alerts, for the objects that have smtp_alert. A sync group alerts once per group state, when every
 * member has reached it (keepalived vrrp_sync_smtp_notifier). Pure apart from its own memory of group states.
 */
import type { Ms } from '../core/time.ts';
import type { AlertPlan } from './plan.ts';
import { type Alert, groupText, quorumBody, rsBody, vrrpText } from './render.ts';

/** Reads alerts out of event records. */
export class AlertSource {
  #plan: AlertPlan;
  readonly #states = new Map<string, string>();
  readonly #groupStates = new Map<string, string>();

  constructor(plan: AlertPlan) {
    this.#plan = plan;
  }

  /** A new plan after a reload; states of instances still configured are kept. */
  setPlan(plan: AlertPlan): void {
    this.#plan = plan;
  }

  /** The alerts one event record yields (none for most). */
  fromEvent(fields: Record<string, unknown>, at: Ms, wallMs: number): Alert[] {
    switch (fields.event) {
      case 'transition':
        return this.#vrrp(String(fields.instance), String(fields.to), at, wallMs, {
          ...(fields.cause !== undefined ? { cause: String(fields.cause) } : {}),
          ...(typeof fields.priority === 'number' ? { priority: fields.priority } : {}),
        });
      case 'stop':
        return this.#vrrp(String(fields.instance), 'STOP', at, wallMs, {});
      case 'health':
        return this.#rs(fields, at, wallMs);
      case 'quorum':
        return this.#vs(fields, at, wallMs);
      default:
        return [];
    }
  }

  #vrrp(instance: string, state: string, at: Ms, wallMs: number, detail: Record<string, string | number>): Alert[] {
    if (state === 'INIT') return [];
    this.#states.set(instance, state);
    const out: Alert[] = [];
    const faultMuted = state === 'FAULT' && this.#plan.noEmailFaults;
    const text = vrrpText(state);
    if (text && this.#plan.instances[instance] && !faultMuted)
      out.push({ object: { kind: 'instance', name: instance }, state, ...text, at, wallMs, detail });
    for (const g of this.#plan.groups) {
      if (!g.members.includes(instance)) continue;
      if (!g.members.every((m) => this.#states.get(m) === state)) continue;
      if (this.#groupStates.get(g.name) === state) continue;
      this.#groupStates.set(g.name, state);
      const gt = groupText(state);
      if (gt && g.alert && !faultMuted) out.push({ object: { kind: 'group', name: g.name }, state, ...gt, at, wallMs });
    }
    return out;
  }

  #rs(f: Record<string, unknown>, at: Ms, wallMs: number): Alert[] {
    const svc = this.#plan.services[String(f.service)];
    const rs = svc?.servers[String(f.server)];
    if (!svc || !rs?.alert) return [];
    const up = f.up === true;
    const state = up ? 'UP' : 'DOWN';
    return [
      {
        object: {
          kind: 'rs',
          service: String(f.service),
          server: String(f.server),
          label: rs.label,
          vsLabel: svc.label,
        },
        state,
        subject: state,
        body: rsBody(rs.check, up),
        at,
        wallMs,
        ...(f.code !== undefined ? { detail: { code: String(f.code) } } : {}),
      },
    ];
  }

  #vs(f: Record<string, unknown>, at: Ms, wallMs: number): Alert[] {
    const svc = this.#plan.services[String(f.service)];
    if (!svc?.alert) return [];
    const up = f.to === 'up';
    const weightSum = typeof f.weightSum === 'number' ? f.weightSum : 0;
    const state = up ? 'UP' : 'DOWN';
    return [
      {
        object: { kind: 'vs', service: String(f.service), label: svc.label },
        state,
        subject: state,
        body: quorumBody(up, svc.quorum, svc.hysteresis, weightSum),
        at,
        wallMs,
        detail: { weightSum },
      },
    ];
  }
}
