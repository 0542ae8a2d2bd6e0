/**
 * A Kafka message definition as data, in the shape of Kafka's own JSON message definitions
 * (apache/kafka clients/src/main/resources/common/message/*.json): one object per request or
 * response with every version in it. Version ranges keep Kafka's notation: "0+", "3-7",
 * "none". Struct types are resolved inline (`fields`), so the codec needs no type table.
 */
export interface FieldDef {
  /** camelCase of Kafka's field name (`ErrorCode` -> `errorCode`). */
  readonly name: string;
  /** Kafka's type: a primitive (`int32`, `string`, `records`, ...), `[]T`, or a struct name with `fields`. */
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** Kafka's default as written in the definition ("-1", "0x7fffffff", "true", "null"). */
  readonly default?: string;
  readonly fields?: readonly FieldDef[];
}

export interface MessageDef {
  readonly name: string;
  readonly apiKey: number;
  readonly type: 'request' | 'response' | 'header';
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly FieldDef[];
}

/** A request and its response for one API key. */
export interface ApiDef {
  readonly apiKey: number;
  readonly name: string;
  readonly request: MessageDef;
  readonly response: MessageDef;
}
