export * from './errors';
export * from './http-exception.filter';
export * from './validation';
export * from './object-id.pipe';
export * from './paging';
export * from './json-depth';
export * from './dto-fields';
export * from './page-query.dto';
