// The KvEvent server the live tests run: the server package's README example
// (packages/server/examples/ts-server.ts), re-exported as it is. The example
// stays in the server package because users read it there, and its README
// test checks that the README shows that file verbatim; the tests of every
// package import it from here, so the server they run is the documented one.
export {
  kvEvent,
  kvHook,
  REJECT_MARKER,
  rejectMarker,
  startKvServer,
  type KvEvent,
} from '../../server/examples/ts-server.js';
