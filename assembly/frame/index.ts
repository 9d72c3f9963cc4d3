// The frame codec's public face for the layers above (assembly/proto).
export * from './constants';
export { FrameError, ErrorKind } from './errors';
export { writeFrameHeader } from './header';
export { SettingsList, SETTINGS_LIST_CAPACITY, checkSetting } from './settings';
export { FrameDecoder, DecodeStatus } from './decoder';
export * from './encoder';
