export * from './metrics.module';
export { httpMetricsMiddleware } from './http-metrics.middleware';
