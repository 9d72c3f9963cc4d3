// The HPACK layer's public face for the layers above (proto/, ffi/).
export { Decoder, DecodeStatus, DEFAULT_MAX_TABLE_SIZE, DEFAULT_MAX_HEADER_LIST_SIZE } from './decoder';
export { Encoder, DEFAULT_ENCODER_TABLE_CAP, DEFAULT_PEER_TABLE_SIZE } from './encoder';
export { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table';
export {
  FIELD_HEADER,
  FLAG_NEVER_INDEX,
  FLAG_NO_INDEX,
  validateFieldList,
  writeFieldHeader,
  fieldNameLen,
  fieldValueLen,
  fieldFlags,
  fieldName,
  fieldValue,
  fieldSize,
  nextField,
  fieldFits,
} from './field-list';
