import { aggregateMessages, inputError } from '../src/errors';

describe('catalog errors', () => {
  it('when several messages repeat, then they are joined once each in brackets', () => {
    const joined = aggregateMessages(['a', 'b', 'a']);
    expect(joined).toBe(`[${['a', 'b'].join(', ')}]`);
    expect(aggregateMessages(['only'])).toBe('only');
    expect(aggregateMessages([])).toBeUndefined();
  });

  it('when an input error is made, then its message starts with the file', () => {
    const err = inputError('/x/y.yaml', 'bad');
    expect(err.message.startsWith('/x/y.yaml')).toBe(true);
    expect(err.file).toBe('/x/y.yaml');
    expect(err.kind).toBe('input');
  });
});
