export * from './config';
export * from './errors';
export * from './permit';
export * from './state';
export * from './status';
export * from './transitions';
export * from './opening-rule';
export * from './window';
