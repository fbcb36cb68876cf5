// Types for cluster-key-slot (the CRC16 slot function ioredis itself uses; the package ships none).
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0-16383) of a key, hash tag included. */
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
