import { RecentIds } from '../../../services/notifier/recent-ids';

describe('RecentIds', () => {
  it('when more ids than the capacity are added, then the oldest are forgotten and the size stays bounded', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);

    expect(ids.size).toBe(3);
    expect(ids.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => ids.has(id))).toBe(true);
  });
});
