import t from 'tap';
import { VERSION } from '../../src/version.js';
t.match(VERSION, /^\d+\.\d+\.\d+$/);
