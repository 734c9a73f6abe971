export { createSelfSignedCertificate, type CertificateAndKey, type SelfSignedOptions } from './certificate.js';
