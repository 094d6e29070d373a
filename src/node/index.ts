/**
 * Node-only parts of softboard: files, sockets, stdio.
 * @packageDocumentation
 */
export {};
