// aedes-persistence ships its in-memory store's types under types/, not beside the module this
// repo imports (nodes/mqtt/bounded_session_store.ts extends that store).
declare module "aedes-persistence/asyncPersistence.js" {
  import MemoryPersistence = require("aedes-persistence/types/asyncPersistence.js");
  export = MemoryPersistence;
}
