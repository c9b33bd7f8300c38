/** train.py of an exported PyTorch project: the run's hyperparameters (hyperparameters.json), the
 *  dataset's own files (data.py), the chosen snapshot's weights, DistributedDataParallel under
 *  torchrun (gloo on CPU, nccl on GPUs), and the trained weights written back as a studio model. */
export const TRAIN_PY = String.raw`"""Trains the exported model with the studio run's hyperparameters.

  python3 train.py                                 one process (threads: --threads)
  torchrun --nproc_per_node N train.py             N processes, DistributedDataParallel
                                                   (gloo on CPU, nccl when there are GPUs)

Starts from weights.cnnm (the snapshot chosen at export) unless --from-scratch; reads the dataset's
own files as dataset.json says (--data-root moves them); writes the trained weights to trained.cnnm
(--out) in the studio's model format, which "cnn-studio import-model trained.cnnm --dataset D"
brings back as a run. The batch size is the global one: each of N processes takes batchSize / N
images, and batch norm's statistics are over all of them, as in the studio. Progress is one JSON
line per epoch on stdout (rank 0), and a last line with the test accuracy.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

import data
import model as studio_model

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--epochs', type=int, help='override the run\'s epochs')
    p.add_argument('--weights', default=os.path.join(HERE, 'weights.cnnm'), help='starting weights (.cnnm)')
    p.add_argument('--from-scratch', action='store_true', help='initialise with the studio\'s init instead of --weights')
    p.add_argument('--out', default=os.path.join(HERE, 'trained.cnnm'), help='where the trained weights go (.cnnm)')
    p.add_argument('--data-root', help='the folder the dataset\'s files are in now, if they moved')
    p.add_argument('--threads', type=int, default=0, help='torch threads per process (default: cores / processes)')
    p.add_argument('--eval-test-each-epoch', action='store_true', help='also report test accuracy after every epoch')
    p.add_argument('--device', default='auto', help='cpu, cuda or auto')
    return p.parse_args()


def main():
    args = parse_args()
    with open(os.path.join(HERE, 'hyperparameters.json')) as f:
        hp = json.load(f)
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    device = torch.device('cuda', local_rank) if (args.device in ('auto', 'cuda') and torch.cuda.is_available()) else torch.device('cpu')
    if world > 1:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    threads = args.threads or max(1, (os.cpu_count() or 1) // world)
    torch.set_num_threads(threads)
    torch.manual_seed(hp['seed'] * 1000 + rank)  # dropout and augmentation: each process its own stream
    log = (lambda o: print(json.dumps(o), flush=True)) if rank == 0 else (lambda o: None)

    sets = data.load(HERE, args.data_root)
    train_idx, val_idx = data.split(HERE, sets['train'], hp)
    train_x, train_y = sets['train']
    epochs = args.epochs or hp['epochs']
    global_batch = hp['batchSize']
    if global_batch % world != 0:
        print(f'batch size {global_batch} is not a multiple of {world} processes: each takes {math.ceil(global_batch / world)}', file=sys.stderr)
    batch = max(1, math.ceil(global_batch / world))

    net = studio_model.build_model()
    if args.from_scratch or not os.path.exists(args.weights):
        studio_model.init_weights(net, hp['seed'])
    else:
        studio_model.load_weights(net, args.weights)
    net.to(device)
    ddp = torch.nn.parallel.DistributedDataParallel(net, broadcast_buffers=False) if world > 1 else net

    opt_cfg = hp['optimizer']
    if opt_cfg['type'] == 'sgd':
        optimizer = torch.optim.SGD(net.parameters(), lr=opt_cfg['learningRate'], momentum=opt_cfg.get('momentum', 0),
                                    nesterov=opt_cfg.get('nesterov', False), weight_decay=opt_cfg.get('weightDecay', 0))
    else:
        make = torch.optim.Adam if opt_cfg['type'] == 'adam' else torch.optim.AdamW
        optimizer = make(net.parameters(), lr=opt_cfg['learningRate'], betas=(opt_cfg.get('beta1', 0.9), opt_cfg.get('beta2', 0.999)),
                         eps=opt_cfg.get('epsilon', 1e-8), weight_decay=opt_cfg.get('weightDecay', 0.01 if opt_cfg['type'] == 'adamw' else 0))

    steps_per_epoch = math.ceil(len(train_idx) / global_batch)
    warmup = hp.get('warmupEpochs', 0)
    warm = None
    if warmup > 0:
        total = warmup * steps_per_epoch
        warm = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / total, end_factor=1.0, total_iters=max(total - 1, 1))
    sched_cfg = hp['schedule']
    main_schedule = None

    def make_schedule():
        if sched_cfg['type'] == 'step':
            return torch.optim.lr_scheduler.StepLR(optimizer, step_size=sched_cfg['stepSize'], gamma=sched_cfg['gamma'])
        if sched_cfg['type'] == 'cosine':
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs - warmup, eta_min=sched_cfg.get('minLearningRate', 0))
        if sched_cfg['type'] == 'plateau':
            return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=sched_cfg['factor'], patience=sched_cfg['patience'],
                                                              threshold=sched_cfg.get('threshold', 1e-4), min_lr=sched_cfg.get('minLearningRate', 0))
        return None

    criterion = torch.nn.CrossEntropyLoss(label_smoothing=hp.get('labelSmoothing', 0))
    augment = hp.get('augment', {})
    h, w, c = studio_model.SPEC['inputShape']
    sampler_rng = np.random.default_rng(hp['seed'])
    started = time.perf_counter()
    train_seconds = 0.0

    for epoch in range(epochs):
        if epoch == warmup:
            main_schedule = make_schedule()
        ddp.train()
        # one shuffled order for every process (same seed), each taking its slice of every batch
        order = train_idx[sampler_rng.permutation(len(train_idx))]
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(steps_per_epoch):
            chunk = order[b * global_batch:(b + 1) * global_batch]
            mine = chunk[rank * batch:(rank + 1) * batch]
            if len(mine) == 0:
                mine = chunk[:1]  # a short last batch: every process needs one image for the collectives
            x = data.to_float(train_x[mine], device)
            y = torch.from_numpy(train_y[mine].astype(np.int64)).to(device)
            if augment.get('flipHorizontal') or augment.get('maxShift', 0) > 0:
                x = data.augment_batch(x, augment.get('flipHorizontal', False), augment.get('maxShift', 0))
            optimizer.zero_grad(set_to_none=True)
            logits = ddp(x)
            loss = criterion(logits, y)
            loss.backward()
            optimizer.step()
            if warm is not None and epoch < warmup:
                warm.step()
            loss_sum += float(loss.item()) * len(mine)
            correct += int((logits.argmax(1) == y).sum().item())
            seen += len(mine)
        train_seconds += time.perf_counter() - t0
        record = {'epoch': epoch + 1, 'trainLoss': loss_sum / seen, 'trainAccuracy': correct / seen,
                  'learningRate': optimizer.param_groups[0]['lr'], 'seconds': round(train_seconds, 2)}
        if len(val_idx) > 0:
            val_loss, val_acc = evaluate(net, train_x[val_idx], train_y[val_idx], device)
            record.update(valLoss=val_loss, valAccuracy=val_acc)
        if args.eval_test_each_epoch and sets['test'] is not None:
            record['testAccuracy'] = evaluate(net, *sets['test'], device)[1]
        log(record)
        if main_schedule is not None:
            if sched_cfg['type'] == 'plateau':
                main_schedule.step(record.get('valLoss', record['trainLoss']))
            else:
                main_schedule.step()

    summary = {'done': True, 'epochs': epochs, 'processes': world, 'device': device.type, 'trainSeconds': round(train_seconds, 2),
               'wallSeconds': round(time.perf_counter() - started, 2), 'torch': torch.__version__}
    if sets['test'] is not None:
        summary['testLoss'], summary['testAccuracy'] = evaluate(net, *sets['test'], device)
    if rank == 0:
        studio_model.save_weights(net, args.out, {'framework': 'pytorch', 'version': torch.__version__, 'processes': world,
                                                 'epochs': epochs, 'hyperparameters': hp, 'testAccuracy': summary.get('testAccuracy')})
        summary['out'] = args.out
    log(summary)
    if world > 1:
        dist.destroy_process_group()


@torch.no_grad()
def evaluate(net, images, labels, device, chunk=256):
    """Loss (plain cross-entropy) and accuracy, evaluation mode; the same on every process."""
    was = net.training
    net.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(labels), chunk):
        x = data.to_float(images[start:start + chunk], device)
        y = torch.from_numpy(labels[start:start + chunk].astype(np.int64)).to(device)
        logits = net(x)
        loss_sum += float(F.cross_entropy(logits, y, reduction='sum').item())
        correct += int((logits.argmax(1) == y).sum().item())
    net.train(was)
    return loss_sum / len(labels), correct / len(labels)


if __name__ == '__main__':
    main()
`;
