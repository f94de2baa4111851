import type { FaultPoint } from '../../../shared/config';

/**
 * Fault injection for the crash tests (IIB_BUILDER_FAULT_POINT): the builder
 * kills itself with SIGKILL, as an OOM killer or a node failure would, at a
 * named point of its first build. Unset in production, where `reach` is a
 * comparison and nothing else.
 */
let armed: FaultPoint | undefined;

export function armFaultPoint(point: FaultPoint | undefined): void {
  armed = point;
}

export function reachFaultPoint(point: FaultPoint): void {
  if (armed !== point) return;
  armed = undefined;
  process.kill(process.pid, 'SIGKILL');
}
