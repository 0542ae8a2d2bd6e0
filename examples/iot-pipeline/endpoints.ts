/** Where the local broker listens (defaults: polybroker's default ports on localhost). */
export interface Endpoints {
  host: string;
  amqp: number;
  mqtt: number;
  kafka: number;
  http: number;
}

export function endpointsFromEnv(env = process.env): Endpoints {
  return {
    host: env.PB_HOST ?? '127.0.0.1',
    amqp: Number(env.PB_AMQP_PORT ?? 5672),
    mqtt: Number(env.PB_MQTT_PORT ?? 1883),
    kafka: Number(env.PB_KAFKA_PORT ?? 9092),
    http: Number(env.PB_HTTP_PORT ?? 15672),
  };
}
