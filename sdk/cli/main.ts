process.stdout.write('deltahub CLI: not yet implemented\n');
