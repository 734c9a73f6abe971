// Remotes the state map tests give their maps.
import { Diff } from '@syncstate-ts/core';
import type { Remote } from '@syncstate-ts/core';

/** A remote whose fetchUpdates answers `answer(current, target)`, each call recorded in `calls`; init does nothing. */
export function remoteAnswering(answer: (current: bigint, target: bigint) => Promise<unknown>): Remote<string, string> & { calls: bigint[][] } {
  const calls: bigint[][] = [];
  return {
    calls,
    fetchUpdates: (current, target) => {
      calls.push([current, target]);
      return answer(current, target) as Promise<Diff<string, string>>;
    },
    init: () => Promise.resolve(),
  };
}

/** A remote whose next fetchUpdates answer the test sets (a master map applies it as a jump). */
export class NextAnswerRemote implements Remote<string, string> {
  next: Diff<string, string> = Diff.empty();
  fetchUpdates(): Promise<Diff<string, string>> {
    return Promise.resolve(this.next);
  }
  init(): Promise<void> {
    return Promise.resolve();
  }
}
