import { getDialect, laneQueue } from '../../../shared/messaging';

describe('dialects', () => {
  it('when mapping for ActiveMQ Classic, then queues and topics get prefixes and serial lanes an exclusive consumer', () => {
    const d = getDialect('activemq');
    expect(d.queueTarget('iib.requests').address).toBe('queue://iib.requests');
    expect(d.queueSource(laneQueue(true, 'iib'), { exclusive: true }).address).toBe(
      'queue://iib.build.serial.iib?consumer.exclusive=true',
    );
    expect(d.destination('topic://VirtualTopic.eng.iib.build.state').address).toBe(
      'topic://VirtualTopic.eng.iib.build.state',
    );
  });

  it('when mapping for RabbitMQ, then queues are existing queues and topics are amq.topic routing keys', () => {
    const d = getDialect('rabbitmq');
    expect(d.needsProvisioning).toBe(true);
    expect(d.queueSource('iib.requests').address).toBe('/amq/queue/iib.requests');
    expect(d.destination('topic://VirtualTopic.eng.iib.batch.state').address).toBe(
      '/topic/VirtualTopic.eng.iib.batch.state',
    );
    expect(d.destination('queue://q1').address).toBe('/amq/queue/q1');
  });

  it('when mapping for Artemis, then routing types travel as capabilities', () => {
    const d = getDialect('artemis');
    expect(d.queueTarget('iib.requests')).toEqual({ address: 'iib.requests', capabilities: ['queue'] });
    expect(d.destination('topic://T')).toEqual({ address: 'T', capabilities: ['topic'] });
  });

  it('when naming lanes, then serial and parallel lanes never share a queue', () => {
    expect(laneQueue(true, 'x')).toBe('iib.build.serial.x');
    expect(laneQueue(false, 'x')).toBe('iib.build.parallel.x');
  });
});
