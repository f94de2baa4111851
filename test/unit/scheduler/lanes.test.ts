import { formatTable, toRow } from '../../../services/scheduler/lanes';

describe('the lanes table', () => {
  it('when the broker gives a head timestamp, then the age is shown in seconds (ms or s timestamps)', () => {
    const now = 1_700_000_100_000;
    expect(
      toRow({ name: 'ns.iib.build.serial.a', head_message_timestamp: 1_700_000_000_000 }, 'ns.', now),
    ).toMatchObject({
      queue: 'iib.build.serial.a',
      oldestAgeS: 100,
    });
    expect(
      toRow({ name: 'ns.iib.build.serial.a', head_message_timestamp: 1_700_000_040 }, 'ns.', now).oldestAgeS,
    ).toBe(60);
  });

  it('when a quorum queue has no head timestamp, then the age is a dash', () => {
    const row = toRow(
      {
        name: 'iib.build.parallel.b',
        type: 'quorum',
        messages_ready: 4,
        messages_unacknowledged: 1,
        consumers: 2,
      },
      '',
      0,
    );
    expect(formatTable([row]).split('\n')).toEqual([
      'LANE                  TYPE    READY  IN_PROGRESS  CONSUMERS  OLDEST_AGE_S',
      'iib.build.parallel.b  quorum  4      1            2          -',
    ]);
  });
});
