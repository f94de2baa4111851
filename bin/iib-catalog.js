#!/usr/bin/env node
'use strict';
// The catalog CLI lives in the workspace package @iib-ts/catalog (packages/catalog).
require('@iib-ts/catalog').runCliProcess();
