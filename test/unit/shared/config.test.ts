import { ConfigError, loadAmqpConfig, loadBuilderConfig, loadNotifierConfig } from '../../../shared/config';

describe('configuration', () => {
  it('when nothing is set, then the local defaults apply', () => {
    const c = loadAmqpConfig({});
    expect(c.urls).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
    expect(c.dialect).toBe('rabbitmq');
    expect(c.ca).toBeUndefined();
    expect(c.namespace).toBe('');
  });

  it('when a value is invalid, then the error names the key and says what it is for', () => {
    expect(() => loadAmqpConfig({ IIB_BROKER_DIALECT: 'kafka' })).toThrow(ConfigError);
    expect(() => loadAmqpConfig({ IIB_BROKER_DIALECT: 'kafka' })).toThrow(
      /IIB_BROKER_DIALECT is invalid: expected one of rabbitmq, activemq, artemis/,
    );
    expect(() => loadAmqpConfig({ IIB_AMQP_MAX_DELIVERIES: '0' })).toThrow(/IIB_AMQP_MAX_DELIVERIES/);
  });

  it('when a required key is missing, then start fails naming it', () => {
    expect(() => loadBuilderConfig({})).toThrow(/Configuration IIB_REGISTRY is required/);
  });

  it('when builder lanes are listed, then each is parsed as serial or parallel', () => {
    const c = loadBuilderConfig({ IIB_REGISTRY: 'r:5000', IIB_BUILDER_LANES: 'serial:alice, parallel:iib' });
    expect(c.lanes).toEqual([
      { serial: true, lane: 'alice' },
      { serial: false, lane: 'iib' },
    ]);
    expect(() => loadBuilderConfig({ IIB_REGISTRY: 'r', IIB_BUILDER_LANES: 'fast:x' })).toThrow(
      /serial:<name> or parallel:<name>/,
    );
  });

  it('when the notifier has IIB settings, then URLs are a failover list and the timeout is in seconds', () => {
    const c = loadNotifierConfig({
      IIB_MESSAGING_URLS: '["amqps://a:5671", "amqps://b:5671"]',
      IIB_MESSAGING_TIMEOUT: '7',
      IIB_MESSAGING_DURABLE: 'false',
    });
    expect(c.external.urls).toEqual(['amqps://a:5671', 'amqps://b:5671']);
    expect(c.external.timeoutMs).toBe(7000);
    expect(c.external.durable).toBe(false);
    expect(c.external.buildStateDestination).toBeUndefined();
  });
});
