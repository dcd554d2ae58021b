'use strict';
// The compiled addon (node-gyp builds it at install); see src/malloc_trim.c.
module.exports = require('./build/Release/malloc_trim.node');
