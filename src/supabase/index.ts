// '@witchcraft/db/supabase': the types supabase-js takes, and the map of rpc functions.
export type * from './database.js';
export { rpcFunctionSpecs, rpcNullableColumns } from './functions.js';
export type {
  RpcFunctionSpec,
  RpcFunctions,
  FunctionsOf,
  PgTypeToWire,
  PgApiRole,
  ResultColumnTypes,
  ResultColumnOf,
  NullableColumnsFor,
} from './functions.js';
