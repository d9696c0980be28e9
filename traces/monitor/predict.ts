/**
 * What a conforming side does with a received message when the chart fails:
 * the refusal, its alert, RFC section and sentence — all from the one table
 * (wire/refusals.ts) by reason.
 */
import type { TlsError } from '../../wire/alerts.js';
import { isRefusalReason, REFUSALS } from '../../wire/refusals.js';
import type { Role, SideTrace, TraceStep } from '../format.js';
import { describeStep, recordedAlert } from './recorded.js';

export interface Prediction {
  /** The alert a conforming side sends; for a peer's alert, the one received. */
  alert: string;
  reason: string;
  section: string;
  requirement: string;
  /** The peer's alert ended the connection (nothing of ours to compare). */
  remote: boolean;
}

/** "… (RFC 8446 §4.4.3)" / "… (§4.1.2)": the section is cited by the prediction already. */
const withoutCitation = (message: string): string => message.replace(/\s*\((RFC \d+ )?§[^)]*\)\s*$/, '');

/**
 * A refusal of the table: its alert, section and sentence, and with `detail`
 * what the rule found in this message (a rule's message names the field; a
 * `fail` branch's message only says the sentence again).
 */
export function predictionOf(error: TlsError, detail = true): Prediction {
  const refusal = REFUSALS[error.reason];
  const found = withoutCitation(error.message);
  const more = detail && found !== '' && found !== refusal.sentence ? `: ${found}` : '';
  return {
    alert: error.alert,
    reason: error.reason,
    section: refusal.section,
    requirement: `${refusal.sentence}${more}`,
    remote: error.remote,
  };
}

/**
 * A refusal for a reason the monitor cannot judge (secrets, the side's own
 * policy, certificate trust): the reason the trace gives, with the table's
 * alert; without a reason, the alert the trace shows.
 */
export function predictionFromTrace(role: Role, side: SideTrace, step: TraceStep): Prediction {
  const reason = step.stateAfter === 'failed' ? side.outcome.reason : undefined;
  if (reason !== undefined && isRefusalReason(reason)) {
    const refusal = REFUSALS[reason];
    if (refusal.alert !== null) {
      return {
        alert: refusal.alert,
        reason,
        section: refusal.section,
        requirement: `${refusal.sentence} (a refusal that needs what the trace holds only as its outcome)`,
        remote: false,
      };
    }
  }
  const alert = recordedAlert(side, step) ?? 'the alert of a reason the trace does not name';
  return {
    alert,
    reason: reason ?? 'Unknown',
    section: '§6',
    requirement: `the ${role} refuses this ${describeStep(step)} for a reason that needs secrets, its trust store or its own policy; the monitor follows the trace`,
    remote: false,
  };
}
