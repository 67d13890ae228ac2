import { expect } from 'chai';
import { Option } from 'commander';
import { OptionError } from '../../lib/config/errors.js';
import { envSetting, OPTION_ENTRIES, OPTION_TABLE, readFlags, type OptionName } from '../../lib/config/option-table.js';
import { DEFAULT_OPTIONS } from '../../lib/config/options.js';
import { SITE_ENV } from '../../lib/config/sites-env.js';

/** readFlags as the CLI calls it after commander: `values` are commander's, `cli` the options given as flags. */
function read(env: NodeJS.ProcessEnv, values: Record<string, unknown> = {}, cli: readonly OptionName[] = []): ReturnType<typeof readFlags> {
  // commander sets a negated switch that is not given to true.
  return readFlags({ fastPath: true, ...values }, (name) => cli.includes(name), env);
}

describe('option table', () => {
  it('keys every entry by the name commander gives its value', () => {
    for (const [name, spec] of OPTION_ENTRIES) expect(new Option(spec.flags).attributeName(), spec.flags).to.equal(name);
  });

  it('gives a value option an <argument>, a switch none, and a negated switch a --no- flag', () => {
    for (const [, spec] of OPTION_ENTRIES) {
      const option = new Option(spec.flags);
      expect(option.required, spec.flags).to.equal(spec.kind === 'value');
      expect(option.negate, spec.flags).to.equal(spec.kind === 'negated');
    }
  });

  it('uses every flag and variable once, and no variable of the single-site form', () => {
    const flags = OPTION_ENTRIES.flatMap(([, spec]) => spec.flags.split(/[, ]+/).filter((part) => part.startsWith('-')));
    const env = OPTION_ENTRIES.map(([, spec]) => spec.env);
    expect(flags).to.have.lengthOf(new Set(flags).size);
    expect(env).to.have.lengthOf(new Set(env).size);
    expect(env.filter((name) => name in SITE_ENV)).to.deep.equal([]);
  });

  it('never gives a value option both a parser and choices (commander checks choices with its own parser)', () => {
    for (const [, spec] of OPTION_ENTRIES)
      if (spec.kind === 'value') expect(spec.parse !== undefined && spec.choices !== undefined, spec.flags).to.equal(false);
  });

  it('takes its defaults from DEFAULT_OPTIONS, which embedders of createApp get', () => {
    expect(OPTION_TABLE.port.default).to.equal(DEFAULT_OPTIONS.port);
    expect(OPTION_TABLE.logLevel.default).to.equal(DEFAULT_OPTIONS.logLevel);
    expect(OPTION_TABLE.maxPayload.default).to.equal(DEFAULT_OPTIONS.maxPayload);
    expect(OPTION_TABLE.corsOrigin.default).to.equal(DEFAULT_OPTIONS.corsOrigin);
    expect(OPTION_TABLE.maxRooms.default).to.equal(DEFAULT_OPTIONS.maxRoomsPerSocket);
    expect(OPTION_TABLE.maxIdLength.default).to.equal(DEFAULT_OPTIONS.maxIdLength);
  });

  it('takes 0 for --attachment-timeout: no deadline, as createApp takes it (the bytes stay bounded by --max-payload)', () => {
    expect(OPTION_TABLE.attachmentTimeout.parse('0')).to.equal(0);
    expect(OPTION_TABLE.attachmentTimeout.parse('300')).to.equal(300);
    expect(() => OPTION_TABLE.attachmentTimeout.parse('-1')).to.throw(OptionError, /^attachment timeout must be an integer of 0 or more/);
  });

  it('names a switch by the setting that does what its flag does', () => {
    expect(envSetting(OPTION_TABLE.port)).to.equal('PORT');
    expect(envSetting(OPTION_TABLE.https)).to.equal('HTTPS=true');
    expect(envSetting(OPTION_TABLE.fastPath)).to.equal('FAST_PATH=off');
  });
});

describe('readFlags', () => {
  it('turns a switch off unless given, and a negated switch on', () => {
    const flags = read({});
    expect(flags.https).to.equal(false);
    expect(flags.verbose).to.equal(false);
    expect(flags.fastPath).to.equal(true);
  });

  it('reads the variables of the switches as booleans, HTTPS=false included', () => {
    for (const [text, value] of [
      ['true', true],
      ['1', true],
      ['ON', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['off', false],
    ] as const) {
      expect(read({ HTTPS: text }).https, `HTTPS=${text}`).to.equal(value);
      expect(read({ VERBOSE: text }).verbose, `VERBOSE=${text}`).to.equal(value);
      expect(read({ FAST_PATH: text }).fastPath, `FAST_PATH=${text}`).to.equal(value);
    }
  });

  it('takes an empty switch variable (FAST_PATH: ${FAST_PATH} in a compose file) as unset: its default', () => {
    expect(read({ HTTPS: '', VERBOSE: ' ', FAST_PATH: '' })).to.include({ https: false, verbose: false, fastPath: true });
  });

  it('rejects a switch variable that is neither true nor false, naming it', () => {
    expect(() => read({ HTTPS: 'maybe' })).to.throw(OptionError, "HTTPS must be true or false, got 'maybe'");
    expect(() => read({ FAST_PATH: 'fast' })).to.throw(OptionError, "FAST_PATH must be true or false, got 'fast'");
  });

  it('lets a flag win over the variable of its switch', () => {
    expect(read({ HTTPS: 'false' }, { https: true }, ['https']).https).to.equal(true);
    expect(read({ FAST_PATH: 'on' }, { fastPath: false }, ['fastPath']).fastPath).to.equal(false);
    // The variable is not read at all when the flag is given: a bad one does not matter.
    expect(read({ VERBOSE: 'sometimes' }, { verbose: true }, ['verbose']).verbose).to.equal(true);
  });

  it('passes the value options through as commander parsed them', () => {
    const flags = read({ PORT: 'ignored: commander read it' }, { port: 8080, corsOrigin: ['https://a.example'] }, ['port']);
    expect(flags.port).to.equal(8080);
    expect(flags.corsOrigin).to.deep.equal(['https://a.example']);
    expect(flags.host).to.equal(undefined);
  });
});
