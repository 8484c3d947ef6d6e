// Placeholder until the registry lands (issue 3): the name of the entry point is final.
process.stdout.write('deltahub registry: not yet implemented — see README.md (issue 3)\n');
