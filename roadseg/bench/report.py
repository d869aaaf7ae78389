"""The benchmark's report: the issue's targets checked against the results, and the tables
printed at the end of a run."""

# The issue's targets: (key, description, threshold). The measured value is looked up by key.
SMOKE_NOTE = ('--quick is a smoke run: it checks that every part works; its figures are '
              'not measurements (one round, small sizes, no waiting for a quiet machine)')


TARGETS = [
    ('fp32_inference_pct', 'fp32 inference, % of the fp32 matmul ceiling', 85.0),
    ('mixed_inference_speedup_b4', 'mixed-precision inference vs fp32, batch 4', 1.8),
    ('mixed_inference_speedup_b1', 'mixed-precision inference vs fp32, batch 1', 1.6),
    ('mixed_agreement_pct', 'mixed-precision class maps agreeing with fp32, % (trained run)',
     99.0),
    ('fp32_training_pct', 'fp32 training step, % of the fp32 matmul ceiling', 65.0),
    ('mixed_training_speedup_b4', 'mixed-precision training vs fp32, batch 4', 1.7),
    ('mixed_training_speedup_b1', 'mixed-precision training vs fp32, batch 1', 1.7),
    ('vggzip_training_fp32', 'training on vgg.zip, own graph vs imported, fp32', 1.15),
    ('vggzip_training_mixed', 'training on vgg.zip, own graph vs imported, mixed', 1.7),
    ('vggzip_inference_fp32_b4', 'inference on vgg.zip, own graph vs imported, fp32, '
     'batch 4', 1.15),
    ('vggzip_inference_mixed_b4', 'inference on vgg.zip, own graph vs imported, mixed, '
     'batch 4', 1.8),
    ('infer_speedup', 'infer.py painting vs the sequential loop', 1.3),
    ('evaluate_relative_speed', 'full-resolution evaluation with the official Cityscapes '
     'score, speed vs the training-size score (0.8: at most 25% more time)', 0.8),
    ('exports_int8_speedup', 'the faster int8 export vs TensorFlow in the mixed precision '
     '(fp32 without one), batch 1', 1.5),
    ('exports_int8_agreement_pct', 'that int8 export\'s class maps agreeing with TensorFlow '
     'fp32, % (trained run)', 97.0),
    ('encode_speedup', 'label encoding vs the loop over classes', 10.0),
    ('check_speedup', 'one-hot checking vs the loop over pixels', 100.0),
]


def target_values(results, mixed):
    """Return {target key: (worst value, where, best value, where)} for what was measured.

    A target covers several rows (sizes, batches, precisions): it is met when its worst
    row meets it.
    """
    candidates = {}
    model = results.get('model')
    for row in (model or {}).get('rows', []):
        where = f'{row["size"]} batch {row["batch"]}'
        if row['precision'] == 'fp32':
            key = 'fp32_inference_pct' if row['mode'] == 'inference' else 'fp32_training_pct'
            candidates.setdefault(key, []).append((row['pct_of_ceiling'], where))
        elif row['precision'] == mixed and row['batch'] in (1, 4):
            key = (f'mixed_{row["mode"]}_speedup_b{row["batch"]}')
            candidates.setdefault(key, []).append((row['speedup_vs_fp32'], row['size']))
    if results.get('agreement'):
        agreement = results['agreement']
        candidates['mixed_agreement_pct'] = [(agreement['agreement_pct'], agreement['run'])]
    for row in results.get('vggzip') or []:
        kind = 'fp32' if row['precision'] == 'fp32' else 'mixed'
        if row['mode'] == 'training' or row['batch'] == 4:
            suffix = '_b4' if row['mode'] == 'inference' else ''
            candidates.setdefault(f'vggzip_{row["mode"]}_{kind}{suffix}', []).append(
                (row['speedup'], f'{row["size"]} batch {row["batch"]}'))
    for row in results.get('infer') or []:
        where = f'{row["model_size"][0]}x{row["model_size"][1]} {row["precision"]}'
        candidates.setdefault('infer_speedup', []).append((row['speedup'], where))
    for row in results.get('evaluate') or []:
        candidates.setdefault('evaluate_relative_speed', []).append(
            (row['relative_speed'], row['precision']))
    for size in sorted({row['size'] for row in results.get('exports') or []}):
        int8 = [row for row in results['exports']
                if row['size'] == size and ' int8 ' in f' {row["variant"]} ']
        best = max(int8, key=lambda row: row['speedup_vs_tensorflow'])
        candidates.setdefault('exports_int8_speedup', []).append(
            (best['speedup_vs_tensorflow'], f'{size} {best["variant"]}'))
        if best['trained_run']:
            candidates.setdefault('exports_int8_agreement_pct', []).append(
                (best['agreement_pct'], f'{size} {best["variant"]}'))
    if results.get('labels'):
        candidates['encode_speedup'] = [(results['labels']['encode_speedup'], '')]
        candidates['check_speedup'] = [(results['labels']['check_speedup'], '')]
    return {key: (*min(values), *max(values)) for key, values in candidates.items()}


def evaluate_targets(results, mixed):
    """Return [{key, description, threshold, value, where, best, best_where, met}]."""
    values = target_values(results, mixed)
    targets = []
    for key, text, threshold in TARGETS:
        if key in values:
            worst, where, best, best_where = values[key]
            targets.append({'key': key, 'description': text, 'threshold': threshold,
                            'value': worst, 'where': where, 'best': best,
                            'best_where': best_where, 'met': worst >= threshold})
    return targets


def number(value):
    """Format a positive figure with one decimal, or three significant digits below 1."""
    return f'{value:.1f}' if value >= 1 else f'{value:.3g}'


def yes_no(value):
    """Return 'yes' or 'NO' (capitals, to stand out in a table) for a truth value."""
    return 'yes' if value else 'NO'


def print_machine(results, args):
    """Print the machine, TensorFlow's threads and how many timed runs were set aside."""
    info = results['machine']
    flags = ', '.join(f'{flag} {"yes" if on else "no"}' for flag, on in info['flags'].items())
    print()
    print(f'CPU: {info["cpu"]}, {info["cores"]} cores; {flags}')
    print(f'TensorFlow {info["tensorflow"]} (oneDNN {"on" if info["onednn"] else "off"}), '
          f'threads intra-op {args.intra_threads or "default"}, inter-op '
          f'{args.inter_threads or "default"}; load average at start '
          f'{info["load_average_start"][0]:.2f}, at end {info["load_average_end"][0]:.2f}')
    set_aside = sum(sum(entry['set_aside'].values()) for entry in results['samples'])
    kept = sum(sum(entry['clean'].values()) for entry in results['samples'])
    print(f'Timed runs: {kept} kept, {set_aside} set aside and repeated because other '
          f'processes kept more than {args.quiet_limit:g} cores busy meanwhile')
    busy = [f'{entry["part"]} ({", ".join(map(str, entry["busy"]))})'
            for entry in results['samples'] if entry.get('busy')]
    if results.get('smoke'):
        print(f'{SMOKE_NOTE}.')
    elif busy:
        print(f'BUSY: no quiet moment for these figures, timed anyway while other processes '
              f'ran ({results.get("waited", 0):.0f} s spent waiting): {"; ".join(busy)}')


def print_model(model, args):
    """Print the FLOPs per image, the matmul ceiling and the model table."""
    print()
    print(f'FLOPs per image (2 per multiply-add over the 13 convolutions, fc6, fc7, the '
          f'score layers and the transposed convolutions; {args.classes} classes, VGG16 '
          f'width {args.vgg_width:g}):')
    for label, flops in model['flops'].items():
        groups = ', '.join(f'{k} {number(v)}' for k, v in flops['groups_gflop'].items())
        print(f'  {label}: forward {number(flops["forward_gflop"])} GFLOP ({groups}); '
              f'training step {number(flops["training_gflop"])} GFLOP')
    ceilings = ', '.join(f'{key.replace("matmul ", "")} {max(v):.0f}'
                         for key, v in model['ceiling'].items())
    print(f'Matmul ceiling ({args.matmul_size}x{args.matmul_size}, GFLOP/s): {ceilings}')
    print()
    print(f'{"model":<10}{"size":>9}{"batch":>6}{"prec":>6}{"ms/img":>9}{"GFLOP/s":>9}'
          f'{"%ceil":>7}{"vs fp32":>9}')
    for row in model['rows']:
        print(f'{row["mode"]:<10}{row["size"]:>9}{row["batch"]:>6}{row["precision"]:>6}'
              f'{row["ms_per_image"]:>9.1f}{row["gflops"]:>9.1f}'
              f'{row["pct_of_ceiling"]:>6.0f}%{row["speedup_vs_fp32"]:>8.2f}x')


def print_agreement(agreement):
    """Print how often mixed-precision and fp32 class maps agreed, and their accuracy."""
    accuracy = ', '.join(f'{k} {v:.2f}%' for k, v in agreement['pixel_accuracy_pct'].items())
    print(f'\nClass maps of {agreement["run"]} ({agreement["checkpoint"]}, '
          f'{agreement["images"]} validation images): mixed precision agrees with fp32 on '
          f'{agreement["agreement_pct"]:.2f}% of pixels; pixel accuracy {accuracy}')


def print_infer(rows):
    """Print the infer.py path table: painting, the sequential loop, the network alone."""
    print()
    print(f'{"infer.py path":<14}{"photos":>16}{"prec":>6}{"img/s":>8}{"sequential":>11}'
          f'{"speedup":>9}{"network":>9}{"bound":>7}  same')
    for row in rows:
        model_size = 'x'.join(str(v) for v in row['model_size'])
        photos = f'{row["photos"]} x ' + 'x'.join(str(v) for v in row['photo_size'])
        print(f'{model_size:<14}{photos:>16}{row["precision"]:>6}'
              f'{row["pipeline_images_per_s"]:>8.2f}{row["sequential_images_per_s"]:>11.2f}'
              f'{row["speedup"]:>8.2f}x{row["network_images_per_s"]:>9.2f}'
              f'{row["network_images_per_s"] / row["sequential_images_per_s"]:>6.2f}x  '
              f'{yes_no(row["outputs_identical"])}')


def print_tta(rows):
    """Print what test-time augmentation and windows cost beside plain inference."""
    print(f'\n{"test-time mode":<28}{"model":>9}{"photo":>11}{"prec":>6}{"ms/photo":>10}'
          f'{"runs":>6}{"vs plain":>10}')
    for row in rows:
        print(f'{row["mode"]:<28}{"x".join(map(str, row["model_size"])):>9}'
              f'{"x".join(map(str, row["photo_size"])):>11}{row["precision"]:>6}'
              f'{row["ms_per_photo"]:>10.1f}{row["network_runs_per_photo"]:>6.3g}'
              f'{row["vs_plain"]:>9.2f}x')


def print_vgg_zip(rows):
    """Print the vgg.zip backbone: imported graph against the project's, ms/image."""
    print('\n    vgg.zip backbone    size batch  prec  imported  own graph  speedup')
    for row in rows:
        print(f'    {row["mode"]:<14s} {row["size"]:>9s} {row["batch"]:5d}  '
              f'{row["precision"]:<4s} {row["imported_ms"]:9.1f} {row["project_ms"]:10.1f} '
              f'{row["speedup"]:7.2f}x')


def print_labels(labels):
    """Print label encoding and checking against their loops."""
    ms = labels['ms_per_image']
    print()
    print(f'Labels {labels["size"][0]}x{labels["size"][1]}, {labels["classes"]} classes, '
          f'ms/image: encode {ms["encode vectorised"]:.2f} vs loop over classes '
          f'{ms["encode loop"]:.2f} ({labels["encode_speedup"]:.1f}x, identical '
          f'{yes_no(labels["encode_identical"])}); check '
          f'{ms["check vectorised"]:.2f} vs loop over pixels {ms["check loop"]:.0f} '
          f'({labels["check_speedup"]:.0f}x, identical '
          f'{yes_no(labels["check_identical"])})')


def print_loader(loader):
    """Print the threaded loader's rate against one thread's."""
    rates = loader['images_per_s']
    print(f'Loader (Cityscapes source, {loader["file_size"][0]}x{loader["file_size"][1]} '
          f'files to {loader["image_size"][0]}x{loader["image_size"][1]}, batch '
          f'{loader["batch"]}): {rates["threaded"]:.1f} img/s with {loader["workers"]} '
          f'worker threads vs {rates["one thread"]:.1f} in one thread '
          f'({loader["speedup"]:.2f}x)')
    recipe = loader['augmentation']
    print(f'  augmented (scale {recipe["scale_range"][0]:g}-{recipe["scale_range"][1]:g}, '
          f'{recipe["crop"][0]}x{recipe["crop"][1]} crops, photometric '
          f'{recipe["photometric"]:g}): {rates["threaded, augmented"]:.1f} img/s with the '
          f'same threads ({loader["augmented_cost"]:.2f}x the time of plain samples)')


def print_targets(targets):
    """Print each target met or missed, with its worst and best rows where they differ."""
    print('\nTargets (each met when its worst row meets it):')
    for target in targets:
        spread = ''
        if target['where'] != target['best_where']:
            spread = (f' at {target["where"]}; best {target["best"]:.2f} at '
                      f'{target["best_where"]}')
        print(f'  [{"met" if target["met"] else "MISSED"}] {target["description"]}: '
              f'{target["value"]:.2f}{spread} (target {target["threshold"]:g})')


def print_evaluate(rows):
    """Print the evaluate part's table."""
    print()
    print('infer.py --evaluate on 2048x1024 Cityscapes files, model at 512x256, ms/image:')
    print(f'{"prec":>6}{"images":>8}{"training size":>15}{"full res + official":>21}'
          f'{"extra time":>12}')
    for row in rows:
        print(f'{row["precision"]:>6}{row["images"]:>8}{row["training_size_ms"]:>15.1f}'
              f'{row["full_resolution_ms"]:>21.1f}{100 / row["relative_speed"] - 100:>11.0f}%')


def print_exports(rows):
    """Print the exports part's table."""
    print()
    print('Exports, batch 1, ms/image; agreement: class maps equal to TensorFlow fp32\'s '
          '(* untrained run: how close the runtimes compute only):')
    print(f'{"size":>9} {"variant":<30}{"ms/img":>9}{"speed vs TF":>13}{"agree %":>9}')
    for row in rows:
        mark = '' if row['trained_run'] else '*'
        print(f'{row["size"]:>9} {row["variant"]:<30}{row["ms_per_image"]:>9.1f}'
              f'{row["speedup_vs_tensorflow"]:>12.2f}x{row["agreement_pct"]:>8.2f}{mark}')
    print(f'  (speed against {rows[0]["versus"]})')


def print_report(results, args):
    """Print the results as tables."""
    print_machine(results, args)
    if results.get('model'):
        print_model(results['model'], args)
    if results.get('agreement'):
        print_agreement(results['agreement'])
    if results.get('vggzip'):
        print_vgg_zip(results['vggzip'])
    if results.get('infer'):
        print_infer(results['infer'])
    if results.get('tta'):
        print_tta(results['tta'])
    if results.get('evaluate'):
        print_evaluate(results['evaluate'])
    if results.get('labels'):
        print_labels(results['labels'])
    if results.get('loader'):
        print_loader(results['loader'])
    if results.get('exports'):
        print_exports(results['exports'])
    if results['targets']:
        print_targets(results['targets'])
